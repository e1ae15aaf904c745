"""The HTTP API: one Powertools APIGatewayRestResolver, one Router per resource."""
