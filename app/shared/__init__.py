"""What several dashboard pages use: data and caches, panels, style, the imagery base
layer, and the entry script's own parts (navigation, page context, sign-in, auth)."""
