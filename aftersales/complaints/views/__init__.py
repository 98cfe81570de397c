"""The pages of complaints: the desk's list and page, the portal's form and status."""
