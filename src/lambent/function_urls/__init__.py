"""Lambda function URLs: the configuration (CreateFunctionUrlConfig and friends) and the
HTTP endpoint that turns requests into payload-format-2.0 events and answers back."""
