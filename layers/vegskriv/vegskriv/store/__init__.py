"""Data access: DynamoDB behind small repositories. Nothing here knows about HTTP or Step Functions."""
