"""The offline plan: the real program under Pulumi's mock engine, as a stable snapshot."""
