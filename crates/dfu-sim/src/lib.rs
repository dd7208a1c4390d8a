//! dfu-sim (in progress).
