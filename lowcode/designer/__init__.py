"""The browser designer: entities, forms and views built without writing JSON."""
