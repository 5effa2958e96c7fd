"""The volunteers service: a plugin that brings its own contracts."""
