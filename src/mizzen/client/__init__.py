"""mizzen.client"""
