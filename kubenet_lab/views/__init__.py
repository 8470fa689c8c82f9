"""The views: pictures, widgets and text in the style of the real tools."""
