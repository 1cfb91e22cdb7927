"""Source readers: HTTP(S), S3 and local files, each opening only what the rules name."""
