"""One module per Lockt resource. Every handler takes a `pipeline.Ctx` and returns an
`envelopes.Reply`; routing.py maps (method, path, selector) to them."""
