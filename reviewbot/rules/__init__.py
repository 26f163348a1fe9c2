"""What the reviewed repository says about its own review: agents, coding standards, suppression comments, the baseline
of accepted findings."""
