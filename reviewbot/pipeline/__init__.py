"""The review itself: diff -> skip -> chunks -> prompts -> plan (sends nothing)
-> execute (asks the model, prints nothing) -> answers -> verified findings."""
