"""The Bot Framework boundary: the only package that imports the botbuilder SDK."""
