"""Input and output channels of the assistant that Rasa does not ship (see ``wechat.py``)."""
