"""The agent: question parsing, tools, planners (deterministic and LLM), grounding and chat sessions."""
