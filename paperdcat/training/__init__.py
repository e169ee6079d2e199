"""LoRA fine-tuning with peft and the transformers Trainer."""
