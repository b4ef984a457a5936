"""Why a model predicted what it did: integrated gradients, LIME and SHAP, pictures of them, and how faithful
each is (deletion and insertion)."""
