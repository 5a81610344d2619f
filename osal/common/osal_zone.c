/*
 * osal_zone.c - fixed-size object zones, in the manner of FreeBSD's UMA
 * but per stack and single-threaded.
 *
 * Items are carved from slabs charged to the stack's ust_mem.  Free items
 * sit on a singly linked free list threaded through the items themselves,
 * so alloc and free are O(1); a slab is only allocated when the free list
 * is empty and the zone is under its hard maximum.  Slabs are kept on a
 * list and returned only when the zone is destroyed: a zone's memory is its
 * high-water mark, which is what an embedded budget wants to know.
 */
#include <stdint.h>
#include <string.h>

#include <ustack/ustack_opts.h>
#include <ustack/ustack_osal.h>

#define ZONE_ALIGN 16u
/* Items a slab holds unless the zone says (UST_ZONE_SLAB_ITEMS, ustack_opts.h). */
#define ZONE_DEFAULT_PER_SLAB ((uint32_t)UST_ZONE_SLAB_ITEMS)

struct zone_slab {
	struct zone_slab *next;
	size_t bytes; /* whole allocation, header included */
};

struct zone_free {
	struct zone_free *next;
};

struct ust_zone {
	struct ust_mem *mem;
	const char *name;
	size_t size; /* rounded item size */
	uint32_t max;
	uint32_t per_slab;
	uint32_t nitems; /* items carved from slabs */
	struct zone_free *free;
	struct zone_slab *slabs;
	uint64_t fail_after;
	struct ust_zone_stats st;
};

#define SLAB_HDR ((sizeof(struct zone_slab) + ZONE_ALIGN - 1) & ~(size_t)(ZONE_ALIGN - 1))

struct ust_zone *
ust_zone_create(struct ust_mem *mem, const char *name, size_t size, uint32_t max, uint32_t per_slab)
{
	struct ust_zone *z;

	/* Rounding up to ZONE_ALIGN must not wrap to a tiny size. */
	if (size == 0 || size > SIZE_MAX - SLAB_HDR - ZONE_ALIGN)
		return (NULL);
	z = ust_mem_zalloc(mem, sizeof(*z));
	if (z == NULL)
		return (NULL);
	if (size < sizeof(struct zone_free))
		size = sizeof(struct zone_free);
	z->mem = mem;
	z->name = name;
	z->size = (size + ZONE_ALIGN - 1) & ~(size_t)(ZONE_ALIGN - 1);
	z->max = max;
	z->per_slab = per_slab != 0 ? per_slab : ZONE_DEFAULT_PER_SLAB;
	z->st.name = name;
	z->st.size = z->size;
	z->st.max = max;
	return (z);
}

void
ust_zone_destroy(struct ust_zone *z)
{
	struct zone_slab *s, *next;

	if (z == NULL)
		return;
	for (s = z->slabs; s != NULL; s = next) {
		next = s->next;
		ust_mem_free(z->mem, s, s->bytes);
	}
	ust_mem_free(z->mem, z, sizeof(*z));
}

/* Carves a new slab; never more items than the hard maximum allows. */
static int
zone_grow(struct ust_zone *z)
{
	struct zone_slab *s;
	uint32_t n = z->per_slab, i;
	uint8_t *item;
	size_t bytes;

	if (z->max != 0) {
		if (z->nitems >= z->max)
			return (0);
		if (n > z->max - z->nitems)
			n = z->max - z->nitems;
	}
	/* A slab of n items must not wrap size_t: fewer items, or none. */
	if (n > (SIZE_MAX - SLAB_HDR) / z->size)
		n = (uint32_t)((SIZE_MAX - SLAB_HDR) / z->size);
	if (n == 0)
		return (0);
	bytes = SLAB_HDR + (size_t)n * z->size;
	s = ust_mem_alloc(z->mem, bytes);
	if (s == NULL)
		return (0);
	s->bytes = bytes;
	s->next = z->slabs;
	z->slabs = s;
	item = (uint8_t *)s + SLAB_HDR;
	for (i = 0; i < n; i++, item += z->size) {
		struct zone_free *f = (struct zone_free *)(void *)item;

		f->next = z->free;
		z->free = f;
	}
	z->nitems += n;
	z->st.cached += n;
	return (1);
}

void *
ust_zone_alloc(struct ust_zone *z)
{
	struct zone_free *f;

	if (z->fail_after != 0 && --z->fail_after == 0)
		goto fail;
	if (z->max != 0 && z->st.in_use >= z->max)
		goto fail;
	if (z->free == NULL && !zone_grow(z))
		goto fail;
	f = z->free;
	z->free = f->next;
	z->st.cached--;
	z->st.in_use++;
	if (z->st.in_use > z->st.peak)
		z->st.peak = z->st.in_use;
	z->st.allocs++;
	return (f);
fail:
	z->st.failures++;
	return (NULL);
}

void
ust_zone_free(struct ust_zone *z, void *item)
{
	struct zone_free *f = item;

	if (item == NULL)
		return;
	f->next = z->free;
	z->free = f;
	z->st.cached++;
	z->st.in_use--;
	z->st.frees++;
}

void
ust_zone_get_stats(const struct ust_zone *z, struct ust_zone_stats *out)
{
	*out = z->st;
}

void
ust_zone_fail_after(struct ust_zone *z, uint64_t n)
{
	z->fail_after = n;
}

void
ust_zone_set_max(struct ust_zone *z, uint32_t max)
{
	z->max = max;
	z->st.max = max;
}
