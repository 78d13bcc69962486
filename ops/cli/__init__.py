"""The CLI layer: invoke collections that adapt the engine and print. The engine never prints."""
