"""ustack on emulated boards: building firmware, booting it under QEMU, driving it from Python."""
