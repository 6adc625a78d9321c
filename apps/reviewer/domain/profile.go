package domain

import (
	"fmt"
	"slices"
	"time"

	"github.com/govern/kit/text"
)

// Limits on profile input (ids and tags are bounded by kit/text).
const (
	MaxTags = 50
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

// ValidateUserID checks a user id from a path, body or event.
func ValidateUserID(userID string) error { return checked(text.ID("user_id", userID)) }

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
		if err := text.Label(fmt.Sprintf("%s[%d]", field, i), t, text.MaxTagLen); err != nil {
			return nil, checked(err)
		}
		if !slices.Contains(clean, t) {
			clean = append(clean, t)
		}
	}
	return clean, nil
}
