"""checkins"""
