"""What a panel draws: its settings and points, t-SNE and UMAP, the map cache and its lock, the
maps computed ahead and the yielding to the user's maps, captions, figures."""
