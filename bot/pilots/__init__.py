"""pilots"""
