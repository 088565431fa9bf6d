"""The main window and what belongs to it as a whole: menus, exports, error dialogs, accessibility,
garbage collection, wheel guard, background work."""
