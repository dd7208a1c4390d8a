//! dfu-profiles (in progress).
