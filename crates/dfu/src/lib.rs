//! dfu (in progress).
