"""The classroom: lessons, presenter mode, the banner over the plots."""
