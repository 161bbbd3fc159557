"""The ZVT ECR interface of German card terminals over TCP: frames, fields, a till-side client, a simulator."""
