"""The platform from the outside: hostile input, forged forms, fuzzing and the API schema."""
