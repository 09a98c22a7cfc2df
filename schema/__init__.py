"""The GraphQL side: Strawberry types derived from the entity declarations, resolvers as
controllers, dataloaders, error mapping."""
