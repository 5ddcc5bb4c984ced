ALTER TABLE `one_time_tokens` ADD `email` text;--> statement-breakpoint
ALTER TABLE `refresh_tokens` ADD `authenticated_at` text;--> statement-breakpoint
ALTER TABLE `users` ADD `credentials_changed_in_version` integer;