"""The shared vocabulary of sameness: manufacturer aliases, identifiers, versions. Depends on nothing of ours."""
