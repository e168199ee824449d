"""The browser designer: build entities, forms and views as ordinary definitions."""
