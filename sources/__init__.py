"""Source readers, column maps and the normalizers that turn raw extract text into staged columns."""
