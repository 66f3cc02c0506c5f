"""Network architectures as plain nn.Modules."""
