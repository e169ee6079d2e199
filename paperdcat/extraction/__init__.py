"""From paper text to DCAT records: cleaning and the context builder, the chat prompt, batched generation
and parsing of the answer."""
