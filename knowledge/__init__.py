"""The rule knowledge base: topics, glossary, assessment rules, flows; search and rule engine."""
