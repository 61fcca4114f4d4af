//! The form that runs a new container: Docker's most used `run` flags as fields, turned
//! into the words of a `run -d` verb.

use super::update::split_words;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Image,
    Name,
    Command,
    Env,
    Volumes,
    Ports,
    Options,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Image,
        Field::Name,
        Field::Command,
        Field::Env,
        Field::Volumes,
        Field::Ports,
        Field::Options,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Image => "Image",
            Field::Name => "Name",
            Field::Command => "Command",
            Field::Env => "Env (K=V ...)",
            Field::Volumes => "Volumes (-v specs)",
            Field::Ports => "Ports (-p specs)",
            Field::Options => "Other flags",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunForm {
    pub values: [String; 7],
    pub focus: usize,
    /// Why the last run from this form failed, shown in it until the next try.
    pub error: Option<String>,
}

impl RunForm {
    pub fn with_image(image: &str) -> RunForm {
        let mut form = RunForm::default();
        form.values[0] = image.to_owned();
        // The image is known: start on the name.
        form.focus = usize::from(!image.is_empty());
        form
    }

    pub fn value(&self, field: Field) -> &str {
        &self.values[field as usize]
    }

    pub fn focused_mut(&mut self) -> &mut String {
        &mut self.values[self.focus]
    }

    pub fn move_focus(&mut self, by: isize) {
        let n = Field::ALL.len() as isize;
        self.focus = (self.focus as isize + by).rem_euclid(n) as usize;
    }

    /// The `run -d ...` words, or what is wrong with the form.
    pub fn words(&self) -> Result<Vec<String>, String> {
        let image = self.value(Field::Image).trim();
        if image.is_empty() {
            return Err("the run form needs an image".into());
        }
        let mut words = vec!["run".to_owned(), "-d".to_owned()];
        let name = self.value(Field::Name).trim();
        if !name.is_empty() {
            words.extend(["--name".to_owned(), name.to_owned()]);
        }
        for env in split_words(self.value(Field::Env))? {
            words.extend(["-e".to_owned(), env]);
        }
        for volume in split_words(self.value(Field::Volumes))? {
            words.extend(["-v".to_owned(), volume]);
        }
        for port in split_words(self.value(Field::Ports))? {
            words.extend(["-p".to_owned(), port]);
        }
        words.extend(split_words(self.value(Field::Options))?);
        words.push(image.to_owned());
        words.extend(split_words(self.value(Field::Command))?);
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_run_words() {
        let mut form = RunForm::with_image("busybox");
        form.values[1] = "web".into();
        form.values[2] = "sh -c 'sleep 100'".into();
        form.values[3] = "A=1 'B=two words'".into();
        form.values[4] = "data:/data".into();
        form.values[5] = "8080:80 127.0.0.1:53:53/udp".into();
        form.values[6] = "-m 64m".into();
        assert_eq!(
            form.words().unwrap(),
            [
                "run",
                "-d",
                "--name",
                "web",
                "-e",
                "A=1",
                "-e",
                "B=two words",
                "-v",
                "data:/data",
                "-p",
                "8080:80",
                "-p",
                "127.0.0.1:53:53/udp",
                "-m",
                "64m",
                "busybox",
                "sh",
                "-c",
                "sleep 100"
            ]
        );
        assert!(RunForm::default()
            .words()
            .unwrap_err()
            .contains("needs an image"));
    }
}
