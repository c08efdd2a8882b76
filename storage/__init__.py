"""Storage: SQLModel tables, the engine, queries and migrations. The only place with SQL."""
