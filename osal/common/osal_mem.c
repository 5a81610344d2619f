/*
 * osal_mem.c - per-stack memory accounting on top of the port's raw
 * allocator.  Every byte a stack allocates is charged to its ust_mem, so a
 * configured limit is a hard bound: past it an allocation fails like any
 * exhausted resource (counted), it never reaches the machine.
 */
#include <string.h>

#include <ustack/ustack_osal.h>

void
ust_mem_init(struct ust_mem *mem, size_t limit)
{
	memset(mem, 0, sizeof(*mem));
	mem->limit = limit;
}

void *
ust_mem_alloc(struct ust_mem *mem, size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if (mem->fail_after != 0 && --mem->fail_after == 0)
		goto fail;
	if (mem->limit != 0 && (size > mem->limit || mem->in_use > mem->limit - size))
		goto fail;
	p = ust_osal_mem_alloc(size);
	if (p == NULL)
		goto fail;
	mem->in_use += size;
	if (mem->in_use > mem->peak)
		mem->peak = mem->in_use;
	mem->allocs++;
	return (p);
fail:
	mem->failures++;
	return (NULL);
}

void *
ust_mem_zalloc(struct ust_mem *mem, size_t size)
{
	void *p = ust_mem_alloc(mem, size);

	if (p != NULL)
		memset(p, 0, size == 0 ? 1 : size);
	return (p);
}

void
ust_mem_free(struct ust_mem *mem, void *p, size_t size)
{
	if (p == NULL)
		return;
	if (size == 0)
		size = 1;
	mem->in_use -= size;
	mem->frees++;
	ust_osal_mem_free(p, size);
}
