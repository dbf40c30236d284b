"""pulse"""
