package domain

import (
	"slices"
	"time"
)

// Limits on profile input.
const (
	MaxUserIDLen = 128
	MaxTagLen    = 64
	MaxTags      = 50
	// MaxClockSkew is how far in the future an activity time may lie; more
	// would let one report keep a user "active" indefinitely.
	MaxClockSkew = 5 * time.Minute
)

// Profile is what jury selection knows about a user.
type Profile struct {
	UserID       string
	Tags         []string
	LastActiveAt time.Time
}

// NewProfile validates an operator-supplied profile; tags are de-duplicated.
func NewProfile(userID string, tags []string, lastActiveAt time.Time, now time.Time) (Profile, error) {
	if err := ValidateUserID(userID); err != nil {
		return Profile{}, err
	}
	clean, err := validTags("tags", tags)
	if err != nil {
		return Profile{}, err
	}
	if err := validActivityTime("last_active_at", lastActiveAt, now); err != nil {
		return Profile{}, err
	}
	return Profile{UserID: userID, Tags: clean, LastActiveAt: lastActiveAt.UTC()}, nil
}

// ValidateActivity checks a user-activity event.
func ValidateActivity(userID string, at time.Time, now time.Time) error {
	if err := ValidateUserID(userID); err != nil {
		return err
	}
	return validActivityTime("at", at, now)
}

// ValidateUserID checks a user id from a path or body.
func ValidateUserID(userID string) error {
	if userID == "" {
		return invalid("user_id is required")
	}
	if len(userID) > MaxUserIDLen {
		return invalid("user_id is longer than %d characters", MaxUserIDLen)
	}
	return nil
}

func validActivityTime(field string, t time.Time, now time.Time) error {
	if t.IsZero() {
		return invalid("%s is required", field)
	}
	if t.After(now.Add(MaxClockSkew)) {
		return invalid("%s is more than %s in the future", field, MaxClockSkew)
	}
	return nil
}

func validTags(field string, tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, invalid("%s has more than %d entries", field, MaxTags)
	}
	clean := make([]string, 0, len(tags))
	for i, t := range tags {
		if t == "" {
			return nil, invalid("%s[%d] is empty", field, i)
		}
		if len(t) > MaxTagLen {
			return nil, invalid("%s[%d] is longer than %d characters", field, i, MaxTagLen)
		}
		if !slices.Contains(clean, t) {
			clean = append(clean, t)
		}
	}
	return clean, nil
}
