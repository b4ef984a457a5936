"""Why a model predicted what it did: integrated gradients, and pictures of them."""
