//! dfu-image (in progress).
