"""Conversation logic: the router, the flow engine, flows as data and Adaptive Card builders."""
