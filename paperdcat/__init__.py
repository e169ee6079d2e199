"""paperdcat: extract DCAT metadata of the datasets a scientific paper uses, with a LoRA-tuned LLM."""

__version__ = "0.1.0"
