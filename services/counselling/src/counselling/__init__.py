"""Counselling: operators' counselling records, cases, incidents, referrals to the city."""
