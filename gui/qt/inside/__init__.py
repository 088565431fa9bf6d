"""Inside the network: the network view, the inspector, the batch-step view, and their docks."""
