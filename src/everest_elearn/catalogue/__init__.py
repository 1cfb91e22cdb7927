"""The EO catalogue: one model for collections and products, one parameter registry, two backends."""
