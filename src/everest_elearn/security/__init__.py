"""Who is calling: identities, roles and the pluggable resolver the hub wires its tokens into."""
