"""Lambda layers: versioned zips a function mounts at /opt."""
