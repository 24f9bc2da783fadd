"""Watch mode: hand every image that has completely arrived in a folder to a callback."""
