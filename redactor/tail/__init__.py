"""The host-side tailer: follows log files and writes redacted copies."""
